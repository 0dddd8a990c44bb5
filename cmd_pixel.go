package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"lightbox/backend/pixel"
	"lightbox/backend/render"
)

func openImage(path string) (*pixel.Image, error) {
	return pixel.Open(path, pixel.WithCodecs(pixel.DefaultCodecs()))
}

func runDecode(args []string) int {
	fs := newFlags("decode")
	out := fs.String("o", "", "output file")
	files, err := parseArgs(fs, args)
	if err != nil || len(files) != 1 || *out == "" {
		fs.Usage()
		return 2
	}
	img, err := openImage(files[0])
	if err != nil {
		return fail("%s: %v", files[0], err)
	}
	defer img.Close()
	f, err := os.Create(*out)
	if err != nil {
		return fail("%v", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = img.Canonical(context.Background(), w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		return fail("%s: %v", files[0], err)
	}
	return 0
}

func runProbe(args []string) int {
	fs := newFlags("probe")
	pos, err := parseArgs(fs, args)
	if err != nil || len(pos) < 2 {
		fs.Usage()
		return 2
	}
	img, err := openImage(pos[0])
	if err != nil {
		return fail("%s: %v", pos[0], err)
	}
	defer img.Close()
	for _, p := range pos[1:] {
		parts := strings.Split(p, ",")
		if len(parts) == 2 {
			parts = append(parts, "0")
		}
		var xyz [3]int
		ok := len(parts) == 3
		for i := 0; ok && i < 3; i++ {
			xyz[i], err = strconv.Atoi(strings.TrimSpace(parts[i]))
			ok = err == nil
		}
		if !ok {
			return fail("point %q: want X,Y,FRAME", p)
		}
		s, err := img.Probe(context.Background(), xyz[0], xyz[1], xyz[2])
		if err != nil {
			return fail("point %s: %v", p, err)
		}
		fmt.Printf("%s=%s\n", p, s)
	}
	return 0
}

func runRender(args []string) int {
	fs := newFlags("render")
	out := fs.String("o", "", "output PNG")
	frame := fs.Int("frame", 0, "frame number (0-based)")
	wc := fs.String("wc", "", "window centre")
	ww := fs.String("ww", "", "window width")
	files, err := parseArgs(fs, args)
	if err != nil || len(files) != 1 || *out == "" {
		fs.Usage()
		return 2
	}
	var win *render.Window
	if *wc != "" || *ww != "" {
		c, err1 := strconv.ParseFloat(*wc, 64)
		w, err2 := strconv.ParseFloat(*ww, 64)
		if err1 != nil || err2 != nil || w <= 0 {
			return fail("--wc and --ww need numbers, with a width above 0")
		}
		win = &render.Window{Center: c, Width: w}
	}
	img, err := openImage(files[0])
	if err != nil {
		return fail("%s: %v", files[0], err)
	}
	defer img.Close()
	png, err := render.RenderPNG(context.Background(), img, *frame, win)
	if err != nil {
		return fail("%s: %v", files[0], err)
	}
	if err := os.WriteFile(*out, png, 0o644); err != nil {
		return fail("%v", err)
	}
	return 0
}
