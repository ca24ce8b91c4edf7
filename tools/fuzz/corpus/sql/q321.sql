SELECT city AS "" FROM members LIMIT 1;
