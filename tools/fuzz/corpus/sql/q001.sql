SELECT count(*) FROM members;
