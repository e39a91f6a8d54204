module github.com/sse-gateway/examples/go

go 1.21
