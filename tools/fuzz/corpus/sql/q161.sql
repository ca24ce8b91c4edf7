SELECT gender + 1 FROM members;
