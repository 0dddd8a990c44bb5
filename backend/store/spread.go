package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// fsTopdirFL is FS_TOPDIR_FL (linux/fs.h): "top of directory hierarchies".
// ext4 places the subdirectories of such a directory in block groups of
// their own (the Orlov allocator), instead of next to their parent.
const fsTopdirFL = 0x00020000

// makeTree creates the store's directory and its objects and tmp folders,
// marking the store's directory and objects as tops of hierarchies.
//
// Why: ext4 allocates a file's inode in its directory's block group, and
// without a journal it skips every inode of that group freed in the last
// one to six minutes (they may not be on disk yet), one by one, for each
// new file. Under a folder where files were recently deleted (a home or
// /tmp) each new file then costs hundreds of microseconds of kernel time:
// 0.4 ms per file measured on this project's test machine, against 0.02 ms
// in a spread folder. Spread, the 256 object folders get groups of their
// own. Where the flag is unknown (other file systems) nothing changes.
func makeTree(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	MarkTop(dir)
	objects := filepath.Join(dir, "objects")
	if err := mkdirOnce(objects); err != nil {
		return err
	}
	MarkTop(objects)
	return mkdirOnce(filepath.Join(dir, "tmp"))
}

func mkdirOnce(d string) error {
	if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// markTop sets FS_TOPDIR_FL on dir, best effort: a file system without
// the flag (or a directory we do not own) keeps the default placement.
func MarkTop(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	defer d.Close()
	flags, err := unix.IoctlGetUint32(int(d.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsTopdirFL != 0 {
		return
	}
	unix.IoctlSetPointerInt(int(d.Fd()), unix.FS_IOC_SETFLAGS, int(flags|fsTopdirFL))
}

// isTop reports whether dir carries FS_TOPDIR_FL (for tests).
func isTop(dir string) (bool, error) {
	d, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close()
	flags, err := unix.IoctlGetUint32(int(d.Fd()), unix.FS_IOC_GETFLAGS)
	return flags&fsTopdirFL != 0, err
}
