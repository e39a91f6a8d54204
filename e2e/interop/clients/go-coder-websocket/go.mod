module github.com/sse-gateway/e2e/interop/go-coder-websocket

go 1.23

require github.com/coder/websocket v1.8.15
