SELECT gender, CASE gender WHEN 'male' THEN 'm' WHEN 'female' THEN 'f' END, CASE gender WHEN NULL THEN 'null?' ELSE 'no' END, count(*) FROM members GROUP BY gender;
