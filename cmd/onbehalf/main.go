// Command onbehalf runs the onbehalf server: people connect Zoom once, and
// meeting-bot platforms fetch Zoom On-Behalf-Of tokens for them just in time.
package main

import (
	"context"
	"os"

	"github.com/onbehalf/onbehalf/internal/app"
)

func main() {
	os.Exit(app.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}
