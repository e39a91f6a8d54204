module github.com/sse-gateway/e2e/interop/go-tmaxmax-sse

go 1.26

require github.com/tmaxmax/go-sse v0.12.0
