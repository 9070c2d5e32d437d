;; A plugin whose start function and `_initialize` export each count their runs in memory:
;; `runs` answers two digits, start runs then initializer runs. A `_start` export (a WASI
;; command's entry) does nothing itself.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory 1)
  (func $start (i32.store8 (i32.const 0) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1))))
  (start $start)
  (func (export "_initialize")
    (i32.store8 (i32.const 1) (i32.add (i32.load8_u (i32.const 1)) (i32.const 1))))
  (func (export "_start"))
  (func (export "runs") (result i32)
    (local $out i64)
    (local.set $out (call $alloc (i64.const 2)))
    (call $store_u8 (local.get $out) (i32.add (i32.const 48) (i32.load8_u (i32.const 0))))
    (call $store_u8 (i64.add (local.get $out) (i64.const 1))
      (i32.add (i32.const 48) (i32.load8_u (i32.const 1))))
    (call $output_set (local.get $out) (i64.const 2))
    (i32.const 0)))
