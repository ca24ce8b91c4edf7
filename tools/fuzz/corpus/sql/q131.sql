SELECT msno FROM members ORDER BY msno LIMIT 0;
