package onbehalf

// Hint tells a person which variable to set, why, and where to find its
// value: pages, logs and `onbehalf doctor` show it for configuration still
// missing.
type Hint struct {
	Var, Why, Where string
}
