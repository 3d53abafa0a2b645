package onbehalf

// Hint tells a person which variable to set, why, and where to find its
// value: pages, logs and `onbehalf doctor` show it for configuration still
// missing.
type Hint struct {
	Var, Why, Where string
	// Platform names the bot platform the variable turns on ("" for the
	// server's own configuration): pages list those as optional choices.
	Platform string
}
