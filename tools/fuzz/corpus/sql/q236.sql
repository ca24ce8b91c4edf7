SELECT msno, date, num_25 FROM user_logs
WHERE msno IN ('Smp0hygzXY/QWvk3r0euVcD5n3LHi0rWwYkmYoRlUmc=', 'J+O3C7YkCKkwvlbO0djEbZQpym/xPU/Q7Y25BA/QjjJ=')
  AND date >= DATE '2016-03-01';
