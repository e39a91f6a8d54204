module github.com/sse-gateway/examples/go

go 1.26

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/tmaxmax/go-sse v0.12.0
)
