package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/carnivalhq/carnival/internal/commerce"
)

// keysCreate prints the new key as its only line on stdout. It opens the
// database itself, so it works while a server runs on the same data (SQLite
// waits for the server's write lock through busy_timeout).
func keysCreate(ctx context.Context, cfg *Config, stdout io.Writer) error {
	if cfg.Role == "" || cfg.Shop == "" {
		return errors.New("keys create needs --role and --shop")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	_, secret, err := commerce.NewService(st, commerce.Options{}).CreateAPIKey(ctx, cfg.Shop, cfg.Role, cfg.Name)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, secret)
	return err
}

func shopsCreate(ctx context.Context, cfg *Config, stdout io.Writer) error {
	if cfg.Name == "" {
		return errors.New("shops create needs --name")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	sh, err := commerce.NewService(st, commerce.Options{}).CreateShop(ctx, cfg.Name, cfg.Shop)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, sh.ID)
	return err
}
