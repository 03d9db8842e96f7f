from studies.cli.main import main

raise SystemExit(main())
