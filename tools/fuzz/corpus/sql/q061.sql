SELECT count(*) FROM members WHERE msno >= 'Z' AND msno < 'a';
