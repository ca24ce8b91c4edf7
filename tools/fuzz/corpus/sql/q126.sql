SELECT msno, gender FROM members ORDER BY gender DESC NULLS FIRST, msno DESC LIMIT 5;
