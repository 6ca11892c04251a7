//go:build tools

// Package tools pins the commands tools/build_sops.sh builds: sops, and age with age-keygen
// (the tests make age keys with them and encrypt files for those keys).
package tools

import (
	_ "filippo.io/age/cmd/age"
	_ "filippo.io/age/cmd/age-keygen"
	_ "github.com/getsops/sops/v3/cmd/sops"
)
