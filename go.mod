module github.com/carnivalhq/carnival

go 1.26.8
