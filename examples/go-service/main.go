package main

import (
	"fmt"
	"html/template"
	"log"
	"net/http"
	"os"
)

var version = "dev"

func main() {
	page := template.Must(template.ParseFiles("templates/index.html"))
	if os.Getenv("SELFTEST") == "1" {
		if err := page.Execute(os.Stdout, os.Getenv("GREETING")); err != nil {
			log.Fatal(err)
		}
		fmt.Println("greeter", version, "ok")
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_ = page.Execute(w, os.Getenv("GREETING"))
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
