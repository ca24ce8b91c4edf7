SELECT gender, count(*), avg(bd) FROM members GROUP BY gender;
