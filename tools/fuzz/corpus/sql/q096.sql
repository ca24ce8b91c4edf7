SELECT min(msno), max(msno), min(gender), max(gender), min(registration_init_time), max(registration_init_time) FROM members;
