SELECT city AS c, bd b, registered_via AS via FROM members WHERE city = 6 AND registered_via = 4;
