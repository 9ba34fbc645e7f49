from aibos.cli import main

main()
