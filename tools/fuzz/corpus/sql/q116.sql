SELECT city, count(*) FROM members;
