;; A WASI plugin that tries the host's filesystem and environment through the preopened folder
;; (fd 3; with two grants, the second is fd 4: Extism preopens them in the order of their host
;; paths, so `ro:…` after `/…`). Each export takes a path (relative to the grant) as input and
;; answers "ok", the text read, or "errno N" (N as one byte value, printed in decimal) when WASI
;; refused.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory"
    (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink"
    (func $path_symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_unlink_file"
    (func $path_unlink_file (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_remove_directory"
    (func $path_remove_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename"
    (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size"
    (func $fd_filestat_set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get"
    (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)

  ;; Layout: 0 result fd / counts, 16 iovec, 32 "ok", 48 "errno " + digits, 64 written text,
  ;; 1024 the input path, 4096 the read buffer (up to 8192 bytes).
  (data (i32.const 32) "ok")
  (data (i32.const 48) "errno ")
  (data (i32.const 64) "written by a plugin")
  (data (i32.const 96) "planted")

  (global $preopen i32 (i32.const 3))
  (global $second_preopen i32 (i32.const 4))
  (global $follow i32 (i32.const 1))
  (global $creat_trunc i32 (i32.const 9))
  (global $directory i32 (i32.const 2))
  (global $rights_read i64 (i64.const 2))
  (global $rights_write i64 (i64.const 64))

  ;; Copies the input to 1024 and returns its length.
  (func $input (result i32)
    (local $n i32) (local $i i32)
    (local.set $n (i32.wrap_i64 (call $input_length)))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (i32.const 1024) (local.get $i))
          (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (local.get $n))

  ;; Sets the output to `len` bytes at `ptr`; returns 0.
  (func $output (param $ptr i32) (param $len i32) (result i32)
    (local $out i64) (local $i i32)
    (local.set $out (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $store_u8 (i64.add (local.get $out) (i64.extend_i32_u (local.get $i)))
          (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (call $output_set (local.get $out) (i64.extend_i32_u (local.get $len)))
    (i32.const 0))

  ;; Writes the input to the plugin's WASI stdout (fd 1), then its stderr (fd 2); "ok" or "errno N".
  (func (export "print") (result i32)
    (local $errno i32)
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (call $input))
    (local.set $errno (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (call $answer (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 8))))

  ;; "ok" when errno is 0, else "errno N".
  (func $answer (param $errno i32) (result i32)
    (if (i32.eqz (local.get $errno)) (then (return (call $output (i32.const 32) (i32.const 2)))))
    (i32.store8 (i32.const 54) (i32.add (i32.const 48) (i32.div_u (local.get $errno) (i32.const 10))))
    (i32.store8 (i32.const 55) (i32.add (i32.const 48) (i32.rem_u (local.get $errno) (i32.const 10))))
    (call $output (i32.const 48) (i32.const 8)))

  ;; Writes the fixed text to the open file `fd` and closes it; returns the errno.
  (func $write_text (param $fd i32) (result i32)
    (local $errno i32)
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 19))
    (local.set $errno (call $fd_write (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 8)))
    (drop (call $fd_close (local.get $fd)))
    (local.get $errno))

  (func (export "read") (result i32)
    (call $read_from (global.get $preopen)))

  ;; Reads the input path of the second grant.
  (func (export "read_second") (result i32)
    (call $read_from (global.get $second_preopen)))

  ;; Answers the text of the input path in the grant `dir`.
  (func $read_from (param $dir i32) (result i32)
    (local $len i32) (local $errno i32) (local $fd i32)
    (local.set $len (call $input))
    (local.set $errno (call $path_open (local.get $dir) (global.get $follow)
      (i32.const 1024) (local.get $len) (i32.const 0) (global.get $rights_read) (i64.const 0)
      (i32.const 0) (i32.const 0)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (local.set $fd (i32.load (i32.const 0)))
    (i32.store (i32.const 16) (i32.const 4096))
    (i32.store (i32.const 20) (i32.const 8192))
    (local.set $errno (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 8)))
    (drop (call $fd_close (local.get $fd)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (call $output (i32.const 4096) (i32.load (i32.const 8))))

  ;; Creates (or truncates) the file and writes a line to it.
  (func (export "write") (result i32)
    (local $len i32) (local $errno i32)
    (local.set $len (call $input))
    (local.set $errno (call $path_open (global.get $preopen) (global.get $follow)
      (i32.const 1024) (local.get $len) (global.get $creat_trunc) (global.get $rights_write)
      (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (call $answer (call $write_text (i32.load (i32.const 0)))))

  ;; Opens the input path as a folder, then creates "planted" inside it through that handle.
  (func (export "write_in_folder") (result i32)
    (local $len i32) (local $errno i32) (local $dir i32)
    (local.set $len (call $input))
    (local.set $errno (call $path_open (global.get $preopen) (global.get $follow)
      (i32.const 1024) (local.get $len) (global.get $directory) (i64.const 0) (i64.const 0)
      (i32.const 0) (i32.const 0)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (local.set $dir (i32.load (i32.const 0)))
    (local.set $errno (call $path_open (local.get $dir) (global.get $follow)
      (i32.const 96) (i32.const 7) (global.get $creat_trunc) (global.get $rights_write)
      (i64.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $fd_close (local.get $dir)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (call $answer (call $write_text (i32.load (i32.const 0)))))

  ;; Opens the file for reading only, with the truncate flag.
  (func (export "truncate") (result i32)
    (local $len i32) (local $errno i32)
    (local.set $len (call $input))
    (local.set $errno (call $path_open (global.get $preopen) (global.get $follow)
      (i32.const 1024) (local.get $len) (i32.const 8) (global.get $rights_read) (i64.const 0)
      (i32.const 0) (i32.const 0)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (drop (call $fd_close (i32.load (i32.const 0))))
    (call $answer (i32.const 0)))

  ;; Opens an existing file for writing, without creating or truncating it, and writes a line.
  (func (export "overwrite") (result i32)
    (local $len i32) (local $errno i32)
    (local.set $len (call $input))
    (local.set $errno (call $path_open (global.get $preopen) (global.get $follow)
      (i32.const 1024) (local.get $len) (i32.const 0) (global.get $rights_write) (i64.const 0)
      (i32.const 0) (i32.const 0)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (call $answer (call $write_text (i32.load (i32.const 0)))))

  ;; Opens the file for reading, then sets its size to 0 through that handle.
  (func (export "set_size") (result i32)
    (local $len i32) (local $errno i32) (local $fd i32)
    (local.set $len (call $input))
    (local.set $errno (call $path_open (global.get $preopen) (global.get $follow)
      (i32.const 1024) (local.get $len) (i32.const 0) (global.get $rights_read) (i64.const 0)
      (i32.const 0) (i32.const 0)))
    (if (local.get $errno) (then (return (call $answer (local.get $errno)))))
    (local.set $fd (i32.load (i32.const 0)))
    (local.set $errno (call $fd_filestat_set_size (local.get $fd) (i64.const 0)))
    (drop (call $fd_close (local.get $fd)))
    (call $answer (local.get $errno)))

  (func (export "unlink") (result i32)
    (call $answer (call $path_unlink_file (global.get $preopen) (i32.const 1024) (call $input))))

  (func (export "rmdir") (result i32)
    (call $answer (call $path_remove_directory (global.get $preopen) (i32.const 1024) (call $input))))

  ;; Renames the input path to "planted" in the same grant.
  (func (export "rename") (result i32)
    (local $len i32)
    (local.set $len (call $input))
    (call $answer (call $path_rename (global.get $preopen) (i32.const 1024) (local.get $len)
      (global.get $preopen) (i32.const 96) (i32.const 7))))

  ;; Moves the input path of the first grant to "planted" in the second.
  (func (export "rename_into_second") (result i32)
    (local $len i32)
    (local.set $len (call $input))
    (call $answer (call $path_rename (global.get $preopen) (i32.const 1024) (local.get $len)
      (global.get $second_preopen) (i32.const 96) (i32.const 7))))

  ;; Moves the input path of the second grant to "planted" in the first.
  (func (export "rename_out_of_second") (result i32)
    (local $len i32)
    (local.set $len (call $input))
    (call $answer (call $path_rename (global.get $second_preopen) (i32.const 1024) (local.get $len)
      (global.get $preopen) (i32.const 96) (i32.const 7))))

  (func (export "mkdir") (result i32)
    (call $answer (call $path_create_directory (global.get $preopen) (i32.const 1024) (call $input))))

  ;; Plants a symlink named "planted" pointing at the input path.
  (func (export "symlink") (result i32)
    (local $len i32)
    (local.set $len (call $input))
    (call $answer (call $path_symlink (i32.const 1024) (local.get $len) (global.get $preopen)
      (i32.const 96) (i32.const 7))))

  ;; The number of environment variables the plugin sees, as "ok" (none) or "errno"-style digits.
  (func (export "environ_count") (result i32)
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (call $answer (i32.load (i32.const 0)))))
