package main

import (
	"context"
	"strings"
	"testing"
)

func TestABadDatabaseURLIsReportedWithoutItsPassword(t *testing.T) {
	_, err := openStore(context.Background(), &Config{DB: "postgre://carnival:S3CRET@db.internal:5432/carnival?sslmode=require"})
	if err == nil || strings.Contains(err.Error(), "S3CRET") || !strings.Contains(err.Error(), "db.internal") {
		t.Fatalf("error %v: want the URL without its password", err)
	}
}
