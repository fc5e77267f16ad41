//go:build tools

// Package ferretdbpeer pins FerretDB, the real MongoDB-compatible server the
// test suite runs the driver against (tests/peers/). Nothing here is compiled
// into the driver: build.sh vendors this module and builds the server binary.
package ferretdbpeer

import (
	_ "github.com/FerretDB/FerretDB/cmd/ferretdb"
)
