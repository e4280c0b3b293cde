from dockrewrite.cli import main

main()
