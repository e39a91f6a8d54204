// Command mint-token prints a subscriber token for the gateway's private topics: a JWT signed
// with HS256 by github.com/golang-jwt/jwt/v5, granting the topics in TOPICS until TTL_SECONDS
// from now. A backend does the same when a user asks for a stream.
//
//	TOKEN_SECRET=… TOPICS='user:42:*,audit' [TTL_SECONDS=3600] [SUBJECT=user-42] go run ./cmd/mint-token
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func main() {
	secret := os.Getenv("TOKEN_SECRET")
	var topics []string
	for _, t := range strings.Split(os.Getenv("TOPICS"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	ttl, err := strconv.Atoi(envOr("TTL_SECONDS", "3600"))
	if secret == "" || len(topics) == 0 || err != nil || ttl <= 0 {
		fmt.Fprintln(os.Stderr, "usage: TOKEN_SECRET=… TOPICS=a,prefix*,… [TTL_SECONDS=3600] [SUBJECT=…] mint-token")
		os.Exit(2)
	}

	claims := jwt.MapClaims{
		"topics": topics, // the grants: exact names, `prefix*` or `*`
		"exp":    time.Now().Add(time.Duration(ttl) * time.Second).Unix(),
	}
	if sub := os.Getenv("SUBJECT"); sub != "" {
		claims["sub"] = sub
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Println(token)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
