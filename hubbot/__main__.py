from hubbot.cli import main

main()
