"""Packages only (all metadata is in pyproject.toml): the engine and the app, plus the
top-level assets/ folder installed as the package data of `fer_studio.assets`."""
from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["fer_engine*", "fer_studio*"]) + ["fer_studio.assets"],
    package_dir={"fer_studio.assets": "assets"},
)
