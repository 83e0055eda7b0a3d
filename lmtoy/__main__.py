from lmtoy.cli import main

main()
