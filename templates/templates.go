// Package templates embeds the HTML templates of the web pages: base.html
// holds the layout and each page file defines the "main" block.
package templates

import "embed"

// FS holds every *.html file of this folder.
//
//go:embed *.html
var FS embed.FS
