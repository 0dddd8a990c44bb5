//go:build desktop

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"lightbox/app"
)

// runDesktop opens the native window: the same UI, with the App's methods
// bound by Wails, events through the Wails runtime, and /files/ served by
// the asset server's handler.
func runDesktop(cfg app.Config) int {
	var wctx context.Context
	cfg.ChooseDirectory = func() (string, error) {
		return runtime.OpenDirectoryDialog(wctx, runtime.OpenDialogOptions{Title: "Import a folder of DICOM files"})
	}
	a, err := app.Open(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lightbox:", err)
		return 1
	}
	defer app.Shutdown(a)
	err = wails.Run(&options.App{
		Title:            "Lightbox",
		Width:            1400,
		Height:           900,
		MinWidth:         900,
		MinHeight:        600,
		BackgroundColour: &options.RGBA{R: 17, G: 19, B: 23, A: 255},
		AssetServer:      &assetserver.Options{Assets: frontendFS(), Handler: app.FilesHandler(a)},
		DragAndDrop:      &options.DragAndDrop{EnableFileDrop: true},
		OnStartup: func(ctx context.Context) {
			wctx = ctx
			app.SetEmitter(a, app.EmitterFunc(func(name string, data any) { runtime.EventsEmit(ctx, name, data) }))
			if err := app.StartDICOM(a); err != nil {
				runtime.LogError(ctx, err.Error())
			}
		},
		Bind: []any{a},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lightbox:", err)
		return 1
	}
	return 0
}
