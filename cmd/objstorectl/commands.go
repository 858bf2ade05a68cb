package main

// commands are the subcommands, in the order help lists them.
var commands = []command{
	{name: "put", args: "FILE|- [--id ID] [--name NAME] [--level 0|1|2] [--meta JSON]", min: 1, max: 1, setup: setupPut,
		summary: "store a file (- reads stdin) and print its id"},
	{name: "get", args: "ID [-o FILE] [--range START-END] [--fetch]", min: 1, max: 1, setup: setupGet,
		summary: "read an object, or a range of it, to a file or stdout"},
	{name: "stat", args: "ID", min: 1, max: 1, setup: noFlags(runStat),
		summary: "show an object's record"},
	{name: "ls", args: "[--after ID] [--limit N]", min: 0, max: 0, setup: setupLs,
		summary: "list the objects in id order"},
	{name: "rm", args: "ID...", min: 1, max: -1, setup: noFlags(runRm),
		summary: "delete objects on every node and in the origin"},
	{name: "level", args: "ID 0|1|2", min: 2, max: 2, setup: noFlags(runLevel),
		summary: "raise an object's consistency level"},
	{name: "nodes", args: "", min: 0, max: 0, setup: noFlags(runNodes),
		summary: "list the cluster's members and their state"},
	{name: "stats", args: "", min: 0, max: 0, setup: noFlags(runStats),
		summary: "show a node's figures: objects, disk, hits, origin, savings"},
	{name: "warm", args: "BUCKET [PREFIX] [--keys FILE|-] [--concurrency N] [--no-wait]", min: 1, max: 2, setup: setupWarm,
		summary: "prefetch a prefix or a list of keys into a node's cache"},
	{name: "ping", args: "", min: 0, max: 0, setup: noFlags(runPing),
		summary: "print the ID of the node that answers"},
}
