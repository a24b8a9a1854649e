"""Reading: the queries behind the pages, shaped to run a constant number of SQL queries."""
