module sphere.software/objstore

go 1.26.8

require pgregory.net/rapid v1.2.0
