from dockrewrite.entry import main

main()
