SELECT nope FROM members;
