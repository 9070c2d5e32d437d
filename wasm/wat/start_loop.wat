;; A plugin whose start function (run when an instance is made) never returns.
(module
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func $spin (loop $forever (br $forever)))
  (start $spin)
  (func (export "run") (result i32) (i32.const 0)))
