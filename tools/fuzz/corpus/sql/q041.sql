SELECT msno, gender, gender = 'male', gender <> 'female' AND city > 10, gender = 'male' OR city > 10, NOT (gender = 'female') FROM members WHERE registered_via = 3 AND city > 14;
