-- Hand-written SQL corpus for tools/sql_differential.py (Strata `query` vs DuckDB).
--
-- Format: a query runs from its first line to the first line that ends with `;` (no `;` inside string
-- literals). Lines starting with `--` are comments. Comment lines directly above a query (no blank line
-- in between) describe it; a comment that is exactly a tag applies to it:
--   -- expect-error   both engines must fail (Strata: exit status > 0 and a message on stderr)
-- EXPLAIN queries are only checked to succeed in both engines.
--
-- Fixture: strata generate --members 1500 --start 20160101 --months 8 --seed 5 --label-months 4
-- (user_logs 2016-01-01..2016-08-31, labels cutoffs 2016-05-01..2016-08-01, gender has NULLs, 4 members
-- have no user_logs, 244 have no labels, total_secs has a few negative and > 86400 values).
-- Results are compared in order only when the query has an ORDER BY, which must then be a total order
-- on the output rows (or ties must be whole-row duplicates).

-- ----- scans, projections, literals ----------------------------------------------------------------

SELECT count(*) FROM members;

SELECT count(*) FROM transactions;

SELECT count(*) FROM user_logs;

SELECT count(*) FROM labels;

-- SELECT * keeps the table's column order
SELECT * FROM members WHERE city = 13;

SELECT * FROM user_logs WHERE date = DATE '2016-03-15';

SELECT * FROM transactions WHERE transaction_date BETWEEN DATE '2016-02-01' AND DATE '2016-02-03';

SELECT * FROM labels WHERE cutoff_date = DATE '2016-06-01' AND msno < 'B';

-- literals of every kind in the select list
SELECT 1, -2, 1.5, 'text', DATE '2016-02-29', NULL, TRUE, FALSE, 9223372036854775807 FROM members WHERE city = 15 AND registered_via = 3;

-- table alias and qualified columns
SELECT m.msno, m.city, m.bd FROM members m WHERE m.registered_via = 13 AND m.city = 5;

-- column aliases, with and without AS
SELECT city AS c, bd b, registered_via AS via FROM members WHERE city = 6 AND registered_via = 4;

-- ----- arithmetic -----------------------------------------------------------------------------------

-- + - * with integer columns and literals; unary minus; precedence
SELECT msno, num_25 + num_50 * 2 - num_75, -num_100, -(num_25 - num_50), 2 + 3 * 4 - 10 / 4, (2 + 3) * 4 FROM user_logs WHERE date = DATE '2016-04-02';

-- / is float division for integers
SELECT msno, num_100 / 3, num_unq / num_unq, 7 / 2, -7 / 2 FROM user_logs WHERE date = DATE '2016-04-03';

-- // integer division and % remainder (truncated towards zero)
SELECT bd, bd // 10, bd % 10, bd // -7, bd % -7, -7 // 2, -7 % 2, 7 // -2, 7 % -2 FROM members WHERE bd <> 0 AND city = 4;

-- / by zero gives inf, -inf, nan
SELECT city / 0, -city / 0, 0 / 0, 1.5 / 0, city / (city - city) FROM members WHERE city = 5 AND registered_via = 3;

-- nan and inf from columns: num_50 is often 0
SELECT msno, num_25 / num_50, num_50 / num_50, total_secs / num_50 FROM user_logs WHERE date = DATE '2016-05-05';

-- aggregates over inf / nan values
SELECT count(*), max(num_25 / num_50), min(num_25 / num_50), sum(num_25 / num_50) FROM user_logs WHERE date = DATE '2016-05-05';

-- nan compares greater than every other number and equal to itself in DuckDB
SELECT count(*), count(CASE WHEN num_50 / num_50 > 1000000 THEN 1 END), count(CASE WHEN (num_50 / num_50) = (num_50 / num_50) THEN 1 END) FROM user_logs WHERE date = DATE '2016-05-06';

-- expect-error
-- integer division by zero
SELECT city // 0 FROM members;

-- expect-error
SELECT num_25 % 0 FROM user_logs;

-- expect-error
-- zero divisor computed per row
SELECT bd // (city - city) FROM members WHERE city = 5;

-- expect-error
-- int64 overflow
SELECT bd * 9223372036854775807 FROM members WHERE bd > 1;

-- expect-error
SELECT max(is_churn) + 9223372036854775807 FROM labels;

-- doubles mixed with integers; decimal literals (binary-exact values only)
SELECT msno, total_secs * 2, total_secs + num_25, total_secs - 0.5, total_secs * 1.5 - num_unq FROM user_logs WHERE date = DATE '2016-07-14';

SELECT city * 1.5, city + 0.25, 10.5 - city, city * 0.125 FROM members WHERE registered_via = 3 AND city < 5;

-- abs
SELECT abs(bd), abs(-3), abs(-2.5), abs(bd - 30) FROM members WHERE city = 15;

SELECT msno, abs(total_secs), abs(-total_secs) FROM user_logs WHERE total_secs < 0;

-- round on doubles: half away from zero, negative digits
SELECT round(2.5), round(-2.5), round(0.5), round(3.5), round(1234.5, -2), round(17, -1), round(17) FROM labels WHERE is_churn = 1 AND cutoff_date = DATE '2016-05-01' AND msno < 'C';

SELECT msno, round(total_secs), round(total_secs, 1), round(total_secs, 2), round(total_secs, -2), round(total_secs / 7, 3) FROM user_logs WHERE date = DATE '2016-02-10';

SELECT round(num_100 / 3, 2), round(num_unq / 7) FROM user_logs WHERE date = DATE '2016-02-11';

-- ----- comparisons and logic ------------------------------------------------------------------------

SELECT count(*) FROM members WHERE city = 1;

SELECT count(*) FROM members WHERE city <> 1;

SELECT count(*) FROM members WHERE city != 1;

SELECT count(*), min(bd), max(bd) FROM members WHERE bd < 18 AND bd > 0;

SELECT count(*) FROM members WHERE bd <= 18 OR bd >= 60;

SELECT count(*) FROM members WHERE NOT (city = 1 OR city = 4);

-- three-valued logic: comparisons with NULL gender
SELECT count(*) FROM members WHERE gender = 'male';

SELECT count(*) FROM members WHERE gender <> 'male';

SELECT count(*) FROM members WHERE NOT gender = 'male';

SELECT count(*) FROM members WHERE gender = 'male' OR gender IS NULL;

SELECT msno, gender, gender = 'male', gender <> 'female' AND city > 10, gender = 'male' OR city > 10, NOT (gender = 'female') FROM members WHERE registered_via = 3 AND city > 14;

-- NULL literal logic
SELECT NULL = NULL, NULL IS NULL, NULL AND FALSE, NULL OR TRUE, NULL AND TRUE, NOT NULL, 1 + NULL FROM labels WHERE msno < '0' AND cutoff_date = DATE '2016-05-01';

-- WHERE NULL and WHERE FALSE keep nothing
SELECT * FROM members WHERE NULL;

SELECT msno FROM members WHERE FALSE;

SELECT count(*) FROM members WHERE TRUE;

-- IS [NOT] NULL
SELECT count(*) FROM members WHERE gender IS NULL;

SELECT count(*) FROM members WHERE gender IS NOT NULL;

SELECT msno, gender IS NULL, gender IS NOT NULL FROM members WHERE city = 22;

-- BETWEEN and NOT BETWEEN, inclusive; a reversed range is empty
SELECT count(*) FROM members WHERE bd BETWEEN 20 AND 30;

SELECT count(*) FROM members WHERE bd NOT BETWEEN 1 AND 100;

SELECT count(*) FROM members WHERE bd BETWEEN 30 AND 20;

SELECT msno, total_secs FROM user_logs WHERE total_secs BETWEEN 100.5 AND 200;

-- IN / NOT IN, with NULL in the list
SELECT count(*) FROM members WHERE city IN (1, 4, 22);

SELECT count(*) FROM members WHERE city NOT IN (1, 4, 22);

SELECT count(*) FROM members WHERE city IN (1, NULL);

SELECT count(*) FROM members WHERE city NOT IN (1, NULL);

SELECT count(*) FROM members WHERE gender IN ('male', NULL);

SELECT count(*) FROM members WHERE gender NOT IN ('male');

SELECT msno, city IN (5, 6), city NOT IN (5, NULL), gender IN ('female', 'x') FROM members WHERE city BETWEEN 5 AND 7 AND registered_via = 4;

-- strings compare byte-wise ('+' < '/' < digits < upper case < lower case)
SELECT count(*) FROM members WHERE msno < 'a';

SELECT count(*) FROM members WHERE msno >= 'Z' AND msno < 'a';

SELECT count(*) FROM members WHERE gender > 'female';

SELECT msno FROM members WHERE msno BETWEEN '+' AND '0';

-- ----- CASE, coalesce, CAST --------------------------------------------------------------------------

SELECT msno, CASE WHEN bd < 18 THEN 'young' WHEN bd < 40 THEN 'adult' ELSE 'older' END, CASE WHEN gender = 'male' THEN 1 END FROM members WHERE city = 12;

SELECT CASE city WHEN 1 THEN 'one' WHEN 4 THEN 'four' ELSE 'other' END AS c, count(*) FROM members GROUP BY c;

-- simple CASE never matches NULL; no ELSE gives NULL
SELECT gender, CASE gender WHEN 'male' THEN 'm' WHEN 'female' THEN 'f' END, CASE gender WHEN NULL THEN 'null?' ELSE 'no' END, count(*) FROM members GROUP BY gender;

-- CASE mixing integer and double branches is DOUBLE
SELECT msno, CASE WHEN total_secs < 0 THEN 0 ELSE total_secs END FROM user_logs WHERE date = DATE '2016-08-08';

SELECT coalesce(gender, 'unknown') AS g, count(*) FROM members GROUP BY g;

SELECT msno, coalesce(NULL, gender, 'none'), coalesce(gender, NULL), coalesce(NULL, NULL, city) FROM members WHERE city = 13;

-- CAST to each target type
SELECT CAST(city AS VARCHAR), CAST(registration_init_time AS VARCHAR), CAST(bd AS DOUBLE), CAST(city AS INTEGER), CAST(bd AS BIGINT) FROM members WHERE city = 4;

-- double to integer rounds to nearest, ties to even (x.5 values exist in total_secs)
SELECT msno, total_secs, CAST(total_secs AS BIGINT), CAST(total_secs AS INTEGER) FROM user_logs WHERE date = DATE '2016-06-20';

SELECT total_secs, CAST(total_secs AS BIGINT) FROM user_logs WHERE total_secs IN (7290.5, 4810.5, 2992.5, 1383.5, 5539.5);

SELECT CAST('42' AS BIGINT), CAST('-7' AS INTEGER), CAST('2.5' AS DOUBLE), CAST('2016-02-29' AS DATE), CAST(DATE '2016-03-01' AS DATE) FROM members WHERE msno < '+1';

SELECT CAST(CAST(city AS VARCHAR) AS BIGINT) + 1, CAST(CAST(registration_init_time AS VARCHAR) AS DATE) FROM members WHERE city = 5;

-- expect-error
SELECT CAST(gender AS BIGINT) FROM members WHERE gender IS NOT NULL;

-- expect-error
SELECT CAST('2016-13-01' AS DATE) FROM members;

-- expect-error
-- INTEGER is 32-bit in DuckDB
SELECT CAST(bd * 10000000 AS INTEGER) FROM members WHERE bd > 1000;

-- ----- dates ---------------------------------------------------------------------------------------

-- a string literal compared with a date is a date
SELECT count(*) FROM user_logs WHERE date = '2016-03-05';

SELECT count(*) FROM user_logs WHERE date BETWEEN '2016-03-01' AND '2016-03-07';

SELECT count(*) FROM user_logs WHERE date IN ('2016-03-01', DATE '2016-03-02');

SELECT count(*) FROM transactions WHERE transaction_date >= DATE '2016-08-01';

SELECT count(*) FROM transactions WHERE transaction_date < DATE '2016-01-01';

SELECT count(*) FROM transactions WHERE membership_expire_date > DATE '2016-12-31';

-- date +/- integer, date - date
SELECT msno, transaction_date + 30, transaction_date - 1, membership_expire_date - transaction_date, DATE '2016-03-01' - 1, DATE '2016-12-31' + 1 FROM transactions WHERE transaction_date = DATE '2016-02-29';

SELECT count(*) FROM user_logs WHERE date >= DATE '2016-02-01' AND date < DATE '2016-02-01' + 30;

-- year, month, day
SELECT year(registration_init_time), month(registration_init_time), day(registration_init_time), count(*) FROM members WHERE city = 1 GROUP BY 1, 2, 3;

-- date_trunc returns DATE in Strata (TIMESTAMP in DuckDB)
SELECT date_trunc('month', date) AS m, count(*) FROM user_logs GROUP BY m ORDER BY m;

SELECT date_trunc('year', registration_init_time) AS y, count(*) FROM members GROUP BY y ORDER BY y DESC;

SELECT count(*) FROM user_logs WHERE date_trunc('month', date) = DATE '2016-04-01';

-- date_diff counts boundaries crossed
SELECT msno, date_diff('day', transaction_date, membership_expire_date), date_diff('month', transaction_date, membership_expire_date), date_diff('year', transaction_date, membership_expire_date) FROM transactions WHERE transaction_date BETWEEN DATE '2016-06-28' AND DATE '2016-06-30';

SELECT date_diff('month', DATE '2016-01-31', DATE '2016-02-01'), date_diff('year', DATE '2016-12-31', DATE '2017-01-01'), date_diff('day', DATE '2016-03-01', DATE '2016-02-01'), date_diff('month', DATE '2016-03-15', DATE '2016-01-20') FROM members WHERE msno < '+1';

SELECT date_diff('year', registration_init_time, DATE '2016-08-31') AS years, count(*) FROM members GROUP BY years ORDER BY years;

-- expect-error
SELECT DATE '2016-02-30' FROM members;

-- expect-error
SELECT registration_init_time + registration_init_time FROM members;

-- ----- aggregates -----------------------------------------------------------------------------------

SELECT count(*), count(gender), count(DISTINCT gender), count(DISTINCT city), sum(bd), avg(bd), min(bd), max(bd) FROM members;

SELECT min(msno), max(msno), min(gender), max(gender), min(registration_init_time), max(registration_init_time) FROM members;

SELECT sum(total_secs), avg(total_secs), min(total_secs), max(total_secs) FROM user_logs WHERE total_secs >= 0;

SELECT avg(num_25), avg(is_churn), sum(is_churn), count(DISTINCT msno) FROM user_logs JOIN labels USING (msno) WHERE date = DATE '2016-06-01';

-- aggregates over empty input: count is 0, the others NULL
SELECT count(*), count(gender), count(DISTINCT msno), sum(bd), avg(bd), min(bd), max(msno), min(registration_init_time) FROM members WHERE city > 1000;

SELECT sum(total_secs), avg(total_secs) FROM user_logs WHERE date < DATE '2015-01-01';

-- GROUP BY over empty input: no rows
SELECT city, count(*) FROM members WHERE FALSE GROUP BY city;

-- group by each key form: column, expression, alias, ordinal
SELECT city, count(*), count(DISTINCT registered_via), sum(bd), min(bd), max(bd), avg(bd) FROM members GROUP BY city;

SELECT year(date) * 100 + month(date), count(*) FROM user_logs GROUP BY year(date) * 100 + month(date);

SELECT registered_via AS via, count(*) AS n FROM members GROUP BY via;

SELECT is_auto_renew, is_cancel, count(*), sum(actual_amount_paid), avg(plan_list_price) FROM transactions GROUP BY 1, 2;

-- a NULL group key
SELECT gender, count(*), avg(bd) FROM members GROUP BY gender;

-- expressions over aggregates and over group keys
SELECT city, count(*) * 2, sum(bd) / count(*), max(bd) - min(bd), round(avg(bd), 2), city * 10 + count(*) FROM members GROUP BY city;

SELECT payment_method_id, max(membership_expire_date) - min(transaction_date) FROM transactions GROUP BY payment_method_id;

-- conditional aggregation
SELECT cutoff_date, count(*), sum(CASE WHEN is_churn = 1 THEN 1 ELSE 0 END), count(CASE WHEN is_churn = 0 THEN 1 END), avg(is_churn) FROM labels GROUP BY cutoff_date;

-- HAVING
SELECT city, count(*) FROM members GROUP BY city HAVING count(*) > 60;

SELECT payment_method_id, count(DISTINCT msno) AS users FROM transactions GROUP BY payment_method_id HAVING count(DISTINCT msno) >= 50 AND sum(actual_amount_paid) > 1000;

SELECT gender, count(*) FROM members GROUP BY gender HAVING gender IS NOT NULL;

SELECT count(*) FROM members HAVING count(*) > 1;

SELECT count(*) FROM members HAVING count(*) > 100000;

-- expect-error
-- nested aggregates
SELECT sum(count(*)) FROM members;

-- expect-error
-- a column that is neither grouped nor aggregated
SELECT city, count(*) FROM members;

-- expect-error
SELECT count(*) FROM members WHERE count(*) > 1;

-- expect-error
SELECT sum(gender) FROM members;

-- ----- ORDER BY, LIMIT, OFFSET ----------------------------------------------------------------------

SELECT msno, city, bd FROM members ORDER BY msno LIMIT 10;

SELECT msno, city FROM members ORDER BY city DESC, msno ASC LIMIT 15;

SELECT msno, city FROM members ORDER BY 2, 1 DESC LIMIT 5 OFFSET 100;

SELECT msno, bd AS age FROM members ORDER BY age DESC, msno LIMIT 5;

-- NULLS LAST is the default for ASC and DESC
SELECT msno, gender FROM members ORDER BY gender, msno LIMIT 5 OFFSET 890;

SELECT msno, gender FROM members ORDER BY gender DESC, msno LIMIT 5 OFFSET 890;

SELECT msno, gender FROM members ORDER BY gender NULLS FIRST, msno LIMIT 5;

SELECT msno, gender FROM members ORDER BY gender DESC NULLS FIRST, msno DESC LIMIT 5;

SELECT msno, gender FROM members ORDER BY gender ASC NULLS LAST, msno LIMIT 3 OFFSET 1495;

-- ORDER BY an expression that is not in the select list
SELECT msno, city, bd FROM members WHERE registered_via = 13 ORDER BY bd - city DESC, msno LIMIT 8;

-- nan sorts after inf; NULLs last
SELECT msno, num_25 / num_50 AS r FROM user_logs WHERE date = DATE '2016-05-05' ORDER BY r DESC, msno LIMIT 12;

SELECT msno, num_25 / num_50 AS r FROM user_logs WHERE date = DATE '2016-05-05' ORDER BY r, msno LIMIT 8;

-- LIMIT 0, OFFSET past the end
SELECT msno FROM members ORDER BY msno LIMIT 0;

SELECT msno FROM members ORDER BY msno LIMIT 10 OFFSET 1500;

-- group by + order by + limit
SELECT city, count(*) AS n FROM members GROUP BY city ORDER BY n DESC, city LIMIT 5;

SELECT registered_via, gender, count(*) FROM members GROUP BY 1, 2 ORDER BY 1, 2 NULLS FIRST;

-- expect-error
SELECT city, bd FROM members ORDER BY 3;

-- expect-error
SELECT city, count(*) FROM members GROUP BY 3;

-- ----- joins ----------------------------------------------------------------------------------------

-- SELECT * gives msno once, then the left's other columns, then the right's
SELECT * FROM labels JOIN members USING (msno) WHERE cutoff_date = DATE '2016-07-01' AND city = 12;

SELECT * FROM members m LEFT JOIN labels l USING (msno) WHERE m.city = 5 AND m.registered_via = 9;

SELECT l.is_churn, m.gender, count(*) FROM labels l JOIN members m USING (msno) GROUP BY l.is_churn, m.gender;

SELECT l.cutoff_date, avg(l.is_churn), count(DISTINCT msno) FROM labels l INNER JOIN members m USING (msno) WHERE m.bd BETWEEN 18 AND 40 GROUP BY l.cutoff_date ORDER BY l.cutoff_date;

-- LEFT JOIN keeps members without labels, with NULLs on the right
SELECT count(*), count(cutoff_date), count(DISTINCT msno), sum(CASE WHEN is_churn IS NULL THEN 1 ELSE 0 END) FROM members LEFT OUTER JOIN labels USING (msno);

SELECT msno, city, cutoff_date, is_churn FROM members LEFT JOIN labels USING (msno) WHERE is_churn IS NULL AND city = 1;

SELECT msno, date FROM members LEFT JOIN user_logs USING (msno) WHERE date IS NULL;

-- user_logs LEFT JOIN members (every log has a member)
SELECT m.city, count(*), sum(u.num_100) FROM user_logs u LEFT JOIN members m USING (msno) WHERE u.date BETWEEN DATE '2016-03-01' AND DATE '2016-03-31' GROUP BY m.city;

SELECT coalesce(gender, '?') AS g, avg(total_secs), round(sum(total_secs), 3) FROM user_logs LEFT JOIN members USING (msno) WHERE total_secs BETWEEN 0 AND 86400 GROUP BY g;

-- transactions JOIN labels: many-to-many on msno
SELECT count(*) FROM transactions JOIN labels USING (msno);

SELECT l.is_churn, t.is_cancel, count(*), avg(t.actual_amount_paid) FROM transactions t JOIN labels l USING (msno) WHERE t.transaction_date < l.cutoff_date GROUP BY 1, 2;

SELECT msno, t.transaction_date, l.cutoff_date, l.cutoff_date - t.membership_expire_date FROM transactions t JOIN labels l USING (msno) WHERE l.cutoff_date = DATE '2016-08-01' AND t.transaction_date >= DATE '2016-08-28';

SELECT msno, count(*) AS n FROM transactions t JOIN labels l USING (msno) GROUP BY msno ORDER BY n DESC, msno LIMIT 5;

-- ----- exploration queries (DESIGN.md W2) ------------------------------------------------------------

-- monthly: sum of valid seconds, distinct members, rows
SELECT year(date) * 100 + month(date) AS m, round(sum(CASE WHEN total_secs >= 0 AND total_secs <= 86400 THEN total_secs ELSE 0 END), 3) AS valid_secs, count(DISTINCT msno) AS users, count(*) AS n FROM user_logs GROUP BY m ORDER BY m;

-- top 10 members by valid seconds over 30 days
SELECT msno, round(sum(total_secs), 3) AS secs FROM user_logs WHERE date >= DATE '2016-06-01' AND date < DATE '2016-06-01' + 30 AND total_secs BETWEEN 0 AND 86400 GROUP BY msno ORDER BY secs DESC, msno LIMIT 10;

-- churn rate by city for the last cutoff
SELECT m.city, count(*) AS n, round(avg(l.is_churn), 4) AS churn FROM labels l JOIN members m USING (msno) WHERE l.cutoff_date = DATE '2016-08-01' GROUP BY m.city HAVING count(*) >= 20 ORDER BY churn DESC, m.city;

-- one member's activity
SELECT date, num_unq, total_secs FROM user_logs WHERE msno = 'LHbJmW+XYZtb5dt9qfLAfNkh1UL4ClIAn97k9FCywhf=' AND date >= DATE '2016-08-01' ORDER BY date;

-- ----- EXPLAIN and errors ---------------------------------------------------------------------------

EXPLAIN SELECT city, count(*) FROM members WHERE bd > 20 GROUP BY city ORDER BY city;

EXPLAIN SELECT msno, sum(total_secs) FROM user_logs u JOIN labels l USING (msno) WHERE u.date >= DATE '2016-05-01' GROUP BY msno;

-- expect-error
SELECT nope FROM members;

-- expect-error
SELECT * FROM no_such_table;

-- expect-error
SELECT city FROM members WHERE;

-- expect-error
SELECT FROM members;

-- expect-error
-- a string compared with an integer
SELECT count(*) FROM members WHERE gender > 1;

-- expect-error
SELECT gender + 1 FROM members;

-- expect-error
SELECT year(city) FROM members;

-- expect-error
SELECT abs('x') FROM members;

-- expect-error
-- unknown alias
SELECT x.city FROM members m;

-- ----- top-N over many chunks (each worker cuts its held rows back to the LIMIT as it goes) ---------

-- a LIMIT larger than a chunk's survivors, so held rows are compacted several times
SELECT msno, date, total_secs FROM user_logs ORDER BY total_secs DESC, msno, date LIMIT 1000 OFFSET 10;

SELECT msno, date, num_unq FROM user_logs WHERE num_25 > 2 ORDER BY num_unq, date DESC, msno LIMIT 700;
