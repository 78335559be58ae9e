"""Use cases: what a command (or a route) asks for, as one function each. A service takes a
store and plain values, does the whole job (its loop, its audit entry) and returns what
happened; it never prints, parses arguments or exits."""
