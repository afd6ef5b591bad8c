// Command gomodproxy writes one module version into a directory laid out as a Go module proxy
// (GOPROXY=file://DIR): <module>/@v/list, <version>.info, <version>.mod and <version>.zip.
// The zip is made by golang.org/x/mod/zip, the code the go command itself uses, so its file
// set, paths and size limits are exactly what `go get` accepts.
//
// Usage: gomodproxy -module PATH -version vX.Y.Z -dir MODULE_TREE -out PROXY_DIR [-time RFC3339]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	modPath := flag.String("module", "", "module path")
	version := flag.String("version", "", "canonical semantic version, e.g. v0.1.0")
	dir := flag.String("dir", "", "module root (the directory holding go.mod)")
	out := flag.String("out", "", "proxy directory to write into")
	when := flag.String("time", "", "version time (RFC 3339); default now")
	flag.Parse()
	if err := run(*modPath, *version, *dir, *out, *when); err != nil {
		fmt.Fprintln(os.Stderr, "gomodproxy:", err)
		os.Exit(1)
	}
}

func run(modPath, version, dir, out, when string) error {
	if modPath == "" || version == "" || dir == "" || out == "" {
		return fmt.Errorf("-module, -version, -dir and -out are required")
	}
	if semver.Canonical(version) != version {
		return fmt.Errorf("version %q is not a canonical semantic version (vX.Y.Z)", version)
	}
	mv := module.Version{Path: modPath, Version: version}
	if err := module.Check(mv.Path, mv.Version); err != nil {
		return err
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	// The go command rejects a zip whose go.mod names another module; fail here instead.
	if got := modfile.ModulePath(goMod); got != modPath {
		return fmt.Errorf("%s/go.mod declares module %q, not %q", dir, got, modPath)
	}
	stamp := time.Now().UTC()
	if when != "" {
		if stamp, err = time.Parse(time.RFC3339, when); err != nil {
			return err
		}
	}
	escaped, err := module.EscapePath(modPath)
	if err != nil {
		return err
	}
	vdir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(vdir, version)
	if err := writeZip(base+".zip", mv, dir); err != nil {
		return err
	}
	if err := os.WriteFile(base+".mod", goMod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, stamp.UTC()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}
	return addToList(filepath.Join(vdir, "list"), version)
}

// addToList keeps the versions already served from this directory.
func addToList(path, version string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	versions := []string{version}
	for _, v := range strings.Fields(string(old)) {
		if v != version {
			versions = append(versions, v)
		}
	}
	semver.Sort(versions)
	return os.WriteFile(path, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

func writeZip(path string, mv module.Version, dir string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := modzip.CreateFromDir(f, mv, dir); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
