SELECT count(*) FROM transactions WHERE transaction_date >= DATE '2016-08-01';
