// Package crashtest holds the kill -9 test of the refresh path: a child
// process (the test binary, re-executed) refreshes connections through the
// real token manager and store as fast as it can while the parent kills it
// at random moments, then checks that the database opens, that every
// connection reads back, and that Zoom's refresh token rotation never got
// ahead of the database by more than the one unavoidable step.
//
// The package has no code of its own; see crash_test.go. Run it with more
// rounds than the default with:
//
//	go test ./internal/crashtest -run Kill9 -crash.rounds=300 -v
package crashtest
