"""Languages we recognise only to explain why a file is skipped."""

from __future__ import annotations

import re

from dockrewrite.providers.base import LanguageSignals

OTHER_LANGUAGES = (
    LanguageSignals(
        "java",
        re.compile(r"^(openjdk|eclipse-temurin|amazoncorretto|maven|gradle|tomcat|jetty|ibmjava|sapmachine)$"),
        re.compile(r"\b(mvn|mvnw|gradle|gradlew|java\s+-jar)\b"),
        ("pom.xml", "build.gradle", "build.gradle.kts"),
    ),
    LanguageSignals(
        "ruby",
        re.compile(r"^(ruby|jruby)$"),
        re.compile(r"\b(bundle\s+install|gem\s+install|rails|rake)\b"),
        ("Gemfile", "Gemfile.lock"),
    ),
    LanguageSignals(
        "php",
        re.compile(r"^(php|composer|wordpress|drupal)$"),
        re.compile(r"\b(composer\s+install|php\s|docker-php-ext)"),
        ("composer.json",),
    ),
    LanguageSignals(
        "rust", re.compile(r"^(rust|rustlang)$"), re.compile(r"\bcargo\s+(build|install)\b"), ("Cargo.toml",)
    ),
    LanguageSignals(
        ".net",
        re.compile(r"^(sdk|aspnet|runtime)$|dotnet"),
        re.compile(r"\bdotnet\s+(publish|build|restore)\b"),
        (),
        ("*.csproj", "*.sln", "*.fsproj"),
    ),
    LanguageSignals(
        "elixir", re.compile(r"^(elixir|erlang)$"), re.compile(r"\bmix\s+(deps|release|compile)"), ("mix.exs",)
    ),
)
