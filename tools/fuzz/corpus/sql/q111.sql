SELECT payment_method_id, count(DISTINCT msno) AS users FROM transactions GROUP BY payment_method_id HAVING count(DISTINCT msno) >= 50 AND sum(actual_amount_paid) > 1000;
