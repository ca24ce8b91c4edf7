SELECT year(registration_init_time), month(registration_init_time), day(registration_init_time), count(*) FROM members WHERE city = 1 GROUP BY 1, 2, 3;
