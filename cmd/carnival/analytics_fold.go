package main

import (
	"context"
	"fmt"
	"io"

	"github.com/carnivalhq/carnival/internal/analytics"
	"github.com/carnivalhq/carnival/internal/commerce"
)

// analyticsFold folds into the rollups the events a node stored after its
// watermark, as that node would on its next start. Only for a node that
// is gone for good: a live node holds those events in memory and flushes
// them itself, so folding them here would count them twice.
func analyticsFold(ctx context.Context, cfg *Config, stderr io.Writer) error {
	log := newLogger(cfg.LogLevel, stderr)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	from, err := st.Watermark(ctx, cfg.Node)
	if err != nil {
		return err
	}
	svc := commerce.NewService(st, commerce.Options{})
	ing, err := analytics.NewIngestor(ctx, st, analytics.Options{Location: analytics.ShopLocation(svc), Logger: log, Node: cfg.Node, FlushEvery: -1})
	if err != nil {
		return err
	}
	if err := ing.Close(); err != nil {
		return err
	}
	to, err := st.Watermark(ctx, cfg.Node)
	if err != nil {
		return err
	}
	if to == from {
		fmt.Fprintf(stderr, "node %q: nothing to fold (watermark %d)\n", cfg.Node, from)
		return nil
	}
	fmt.Fprintf(stderr, "node %q: folded its events after sequence %d, up to %d\n", cfg.Node, from, to)
	return nil
}
