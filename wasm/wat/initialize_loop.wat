;; A WASI-reactor-style plugin whose `_initialize` export (called by the host after instantiation)
;; never returns.
(module
  (func (export "_initialize") (loop $forever (br $forever)))
  (func (export "run") (result i32) (i32.const 0)))
