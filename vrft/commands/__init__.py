"""One module per `vrft` sub-command, each exposing `register(subparsers)`."""
